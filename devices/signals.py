"""What the devices app tells others, without importing them."""
from django.dispatch import Signal

# Sent once a device's state change is committed: device_id, previous, new, at.
state_changed = Signal()
