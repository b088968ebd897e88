"""The PBX adapter: the AMI link, the pure call tracker and the glue to the domain."""
