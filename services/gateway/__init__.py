"""The gateway: the HTTP face of boxops; owns nothing."""
