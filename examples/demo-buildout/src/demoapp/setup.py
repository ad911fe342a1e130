from setuptools import setup

setup(
    name="demoapp",
    version="1.0",
    packages=["demoapp"],
    install_requires=["ZEO"],
    entry_points={"console_scripts": ["demoapp-client = demoapp.server:main"]},
)
