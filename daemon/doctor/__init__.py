"""The PBX doctor: checks that say exactly what is wrong between the CRM and its Asterisk.

`checks`, `checks_dialplan` and `checks_calls` hold the checks (each takes a DoctorContext and
returns Findings, models/telephony/pbx_health.py); `runner` runs them in order and formats
them for the CLI (`centralita doctor`); `monitor` runs them in the product after each AMI login
and keeps the latest report for the panel. `probe` is the doctor's own short AMI session.
"""
