from amishare.services.ec2 import images, instances, snapshots, tags, volumes  # noqa: F401
