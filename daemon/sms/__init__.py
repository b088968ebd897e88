"""SMS gateways (C8, T2): the interface, the chan_dongle (AMI) and HTTP drivers, and the outbox
sender that hands queued SMS to the configured one."""
