"""boxops in other libraries' extension points: `boxops.integrations.lightning.BoxopsLogger`.

Each module imports its library, which is an optional extra (`pip install 'boxops[lightning]'`).
"""
