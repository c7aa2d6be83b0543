"""One router per resource: requirements, submissions, health."""
