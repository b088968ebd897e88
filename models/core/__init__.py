"""Core: what every context stands on and nothing business-specific.

Owns the database connection and migrations (`db`), SQL written once for both dialects (`sql`),
the clock passed in so tests can move time (`clock`), the domain's exception tree (`errors`),
domain events and commands (`events`) and the in-process hub that carries them (`hub`), the
English names of the domain's codes (`labels`) and the typed settings object (`settings`).
"""
