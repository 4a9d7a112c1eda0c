from amishare.services.ec2 import attributes, guardrails, images, instances, regions, snapshots, tags, volumes  # noqa: F401
