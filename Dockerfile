# ferry in a container: build it on Debian 12, ship it with qemu alone.
#   podman build --isolation chroot -t ferry .      (or docker build -t ferry .)
#   docker run --rm -v "$PWD:/work" ferry -a /work/disk.qcow2 ls /
# ./build.sh container builds this image and tests it (see tests/container.sh).

FROM debian:bookworm-slim AS build
# build.sh installs the Debian packages it needs (it runs as root here) and
# compiles the appliance's kernel from linux-source-6.1
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN ./build.sh && strip --strip-debug build/ferry

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends qemu-system-x86 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/ferry /usr/local/bin/ferry
ENTRYPOINT ["ferry"]
