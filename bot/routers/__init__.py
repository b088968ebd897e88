"""One router per topic; bot/__init__.py assembles them."""
