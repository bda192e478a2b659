"""Which packages the wheel holds and where they come from; everything else is pyproject.toml.

The repository keeps its rooms at the top (producers/, consumers/, schemas/) while the wheel
installs under fleetstream's own name only: the groups go to fleetstream/_groups/ (put on the
path by fleetstream/__init__.py, so `import consumers.sink` works as in a checkout) and the
schemas to fleetstream/schemas/ (found by fleetstream.serde.avro.schemas_dir). bench/, devstack/,
tests/ and tools/ stay out. Computed here because pyproject.toml cannot map found packages.
"""

from setuptools import find_packages, setup

GROUPS = ("producers", "consumers")

packages = [*find_packages(include=["fleetstream", "fleetstream.*"]), "fleetstream.schemas"]
package_dir = {"fleetstream.schemas": "schemas"}
for group in GROUPS:
    packages += [
        f"fleetstream._groups.{name}" for name in find_packages(include=[group, f"{group}.*"])
    ]
    package_dir[f"fleetstream._groups.{group}"] = group

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={"fleetstream": ["py.typed"], "fleetstream.schemas": ["*.avsc"]},
)
