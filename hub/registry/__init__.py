"""Sites, the location tree (building › floor › unit/area), owners and devices."""
