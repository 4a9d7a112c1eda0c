from amishare.services.ec2 import attributes, images, instances, snapshots, tags, volumes  # noqa: F401
