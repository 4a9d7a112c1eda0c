"""The HTTP front end: authenticate, decode, invoke the application, encode."""
