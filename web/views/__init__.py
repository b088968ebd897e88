"""Views of the panel, one module per section, each with setup_routes(app)."""
