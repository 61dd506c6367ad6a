"""Authentication and authorisation: the permission matrix, the one dependency that applies it, the
log of failed authentications."""
