"""amishare: EC2 AMI sharing behind the real AWS wire protocols."""

__version__ = "0.1.0"
