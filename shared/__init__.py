"""What more than one boxops service needs: events, bus, outbox/inbox, db, settings."""
