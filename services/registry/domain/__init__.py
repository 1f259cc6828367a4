"""The registry's pure logic: references, URIs, manifests, pipeline checks, lineage trees."""
