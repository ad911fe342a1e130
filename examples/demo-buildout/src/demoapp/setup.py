import os
import time

from setuptools import setup

# Lets tests make a build slow on purpose (buildout runs this file for the develop egg).
time.sleep(float(os.environ.get("DEMO_BUILD_DELAY", "0")))

setup(
    name="demoapp",
    version="1.0",
    packages=["demoapp"],
    install_requires=["ZEO"],
    # Only builds with cfg/celery.cfg ask for these.
    extras_require={"celery": ["celery", "redis"]},
    entry_points={
        "console_scripts": [
            "demoapp-client = demoapp.server:main",
            "demoapp-pack = demoapp.pack:main",
            "demoapp-celery = demoapp.tasks:worker",
            "demoapp-celerybeat = demoapp.tasks:beat",
            "demoapp-solr = demoapp.solr:main",
        ]
    },
)
