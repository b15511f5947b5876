"""The rotating code: format, signing keys, rendering, offline devices, service points, scans."""
