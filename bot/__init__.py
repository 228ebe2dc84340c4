"""The core: settings, the Ideogram client, image/mask processing, the edit service and scheduler."""
