"""Builds chute's Python client: the chute package and its C extension
chute._chute over libchute.

libchute is found, in this order:
 1. a chute build tree: $CHUTE_BUILD, else ../build beside this directory
    (after `make`): libchute.a is linked in statically, so the extension
    needs no libchute.so at run time;
 2. an installed chute (`make install`), through `pkg-config chute`:
    linked against libchute.so.
"""
import os
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
SOURCES = ["src/module.c", "src/future.c", "src/producer.c", "src/pending.c"]
CFLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-Wno-missing-field-initializers",
          "-Wno-cast-function-type", "-D_GNU_SOURCE", "-O2"]


def from_build_tree():
    build = os.environ.get("CHUTE_BUILD") or os.path.join(TOP, "build")
    build = os.path.abspath(build)
    lib = os.path.join(build, "lib", "libchute.a")
    header = os.path.join(TOP, "include", "chute", "chute.h")
    if not (os.path.exists(lib) and os.path.exists(header)):
        return None
    print("chute: linking %s statically" % lib)
    return dict(include_dirs=[os.path.join(TOP, "include")],
                extra_objects=[lib],
                libraries=["protobuf-c", "pthread", "rt"])


def from_pkg_config():
    try:
        out = subprocess.run(["pkg-config", "--cflags", "--libs", "chute"],
                             check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    flags = shlex.split(out.stdout)
    print("chute: linking libchute.so found by pkg-config: %s" % out.stdout.strip())
    return dict(include_dirs=[f[2:] for f in flags if f.startswith("-I")],
                library_dirs=[f[2:] for f in flags if f.startswith("-L")],
                runtime_library_dirs=[f[2:] for f in flags if f.startswith("-L")],
                libraries=[f[2:] for f in flags if f.startswith("-l")])


where = from_build_tree() or from_pkg_config()
if where is None:
    sys.exit("chute: libchute not found: run `make` in the chute tree (or set "
             "CHUTE_BUILD to its build directory), or `make install` chute "
             "so that `pkg-config chute` finds it")

class BuildExt(build_ext):
    """Always compiles and links anew: distutils would keep an extension
    whose sources did not change even when libchute.a (linked in) or the
    compiler flags (a sanitizer build) did."""

    def run(self):
        shutil.rmtree(self.build_temp, ignore_errors=True)
        inplace = self.inplace
        for self.inplace in (0, 1):  # the build tree's copy and in place
            for ext in self.extensions:
                path = self.get_ext_fullpath(ext.name)
                if os.path.exists(path):
                    os.unlink(path)
        self.inplace = inplace
        super().run()


setup(
    name="chute",
    cmdclass={"build_ext": BuildExt},
    version="0.1.0",
    description="kafka-python's KafkaProducer on chute, the per-host Kafka "
                "producer service",
    packages=["chute"],
    package_data={"chute": ["py.typed", "_chute.pyi"]},
    python_requires=">=3.9",
    ext_modules=[Extension("chute._chute", sources=SOURCES,
                           depends=["src/chute_py.h", "src/pending.h"],
                           extra_compile_args=CFLAGS, **where)],
)
