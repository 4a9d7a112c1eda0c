from amishare.services.ec2 import attributes, guardrails, images, instances, snapshots, tags, volumes  # noqa: F401
