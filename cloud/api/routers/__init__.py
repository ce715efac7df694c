"""One router per resource under /v1/sites/{site}/."""
