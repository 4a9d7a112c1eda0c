from amishare.services.ec2 import attributes, guardrails, images, instances, recycle_bin, regions, snapshots, tags, volumes  # noqa: F401
