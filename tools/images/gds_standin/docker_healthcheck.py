#!/opt/conda/bin/python
"""Stand-in for docker-stacks' /etc/jupyter/docker_healthcheck.py: healthy only while Jupyter answers on 8888.

A container of this image that runs only `dask scheduler` or `dask worker` is therefore unhealthy unless the
deployment brings its own healthcheck, which is exactly the trap the real gds images set.
"""
import sys
import urllib.request

try:
    urllib.request.urlopen("http://127.0.0.1:8888/api", timeout=3)
except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
    print(exc)
    sys.exit(1)
