"""Contacts: the clients and what is known about them.

Owns clients (`clients`), their phones, emails and custom values (`contact_details`, `phones`),
tags (`tags`), notes (`notes`), the timeline of a client or lead and its sentences in the reader's
language (`timeline`, `timeline_text`), search keys (`search_text`), finding clients by any
part of a name, company or email through the database's trigram search (`client_search`) and
the running totals of clients and deals the lists show (`tallies`).
"""
