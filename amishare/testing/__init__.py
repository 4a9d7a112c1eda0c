"""Test helpers: a real amishare server, its accounts and clients.

In pytest, the plugin (amishare.testing.plugin) gives the `amishare` fixture; elsewhere:

    import amishare.testing

    with amishare.testing.server() as s:
        alice = s.new_account()
        s.client(alice, "ec2").describe_images(Owners=["amazon"])
"""

from amishare.testing.server import Account, Organization, Server, free_port, server

__all__ = ["Account", "Organization", "Server", "free_port", "server"]
