# ferry in a container: built on Debian 12, shipped alone. The image holds
# one file, /ferry: it carries its kernel, its appliance and its qemu.
#   podman build --isolation chroot -t ferry .      (or docker build -t ferry .)
#   docker run --rm -v "$PWD:/work" ferry -a /work/disk.qcow2 ls /
# ./build.sh container builds this image and tests it (see tests/container.sh).

FROM debian:bookworm-slim AS build
# build.sh installs the Debian packages it needs (it runs as root here),
# compiles the appliance's kernel from linux-source-6.1, and qemu and tar
# from Debian's sources
RUN apt-get update && apt-get install -y --no-install-recommends make ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN ./build.sh && strip --strip-debug build/ferry

FROM scratch
COPY --from=build /src/build/ferry /ferry
ENTRYPOINT ["/ferry"]
