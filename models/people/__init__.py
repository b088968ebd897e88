"""People: who uses the CRM and what each may do.

Owns users and their passwords (`users`), the team and invitations (`team`), permission groups
and the checks every front-end goes through (`permissions`), working hours (`schedule`), a user's
own profile (`profile`) and the company-wide settings an admin edits (`company_settings`).
"""
