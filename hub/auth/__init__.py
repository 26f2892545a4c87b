"""Users, their roles and site scopes, and hashed API tokens."""
