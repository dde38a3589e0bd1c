# syntax=docker/dockerfile:1
# SPDX-License-Identifier: Apache-2.0
#
# The seed's sandbox image (python:3.12-slim + pip), corrected and extended:
#  - Debian 12's own python3-numpy/pandas/requests instead of `pip install`: pip needs the network,
#    and these are the exact builds the recordings and the generated profiles were measured with.
#  - No `useradd --uid 65534`: Debian already has nobody:nogroup = 65534:65534, and useradd fails
#    ("UID 65534 is not unique", exit 4). The image runs as 65534:65534.
#  - No `apt-get purge -y bash`: bash is Essential, so apt refuses it under -y ("Essential packages
#    were removed and -y was used without --allow-remove-essential", exit 100) and the build stops.
#    bash is removed with dpkg's explicit override as the very last root step instead, after every
#    step that might need it. /bin/sh (dash) stays: Python's os.system/popen need it, and the barrier
#    is the seccomp profile and the read-only root, not the absence of a shell. curl and wget are not
#    in a Debian base image at all.
#  - The seccomp profile is not hand-written: the build compiles tightbox (stage 1), records the
#    corpus (scripts/workloads) with the ptrace backend inside the image it will run in, and writes
#    the generated profiles to /etc/tightbox/ (stage 2).
#
# With Docker and network access (Docker's builder cannot grant the recording step its capabilities,
# so the image generates its profiles from the shipped recording, profiles/corpus.json):
#   docker build -f sandbox.Dockerfile --build-arg RECORD=shipped -t code-sandbox:latest .
# Offline with podman (no registry, images from debootstrap): scripts/build-sandbox-image, which
# passes BASE/BUILDER = the images scripts/build-image makes.
#
# Then run with the seed's line and the generated profile taken from the image:
#   docker run --rm code-sandbox:latest cat /etc/tightbox/seccomp.json > seccomp.json
#   docker run --rm --network none --read-only --tmpfs /tmp:size=50m,noexec ... \
#     --security-opt seccomp=seccomp.json code-sandbox:latest python3 /sandbox/script.py
ARG BASE=debian:bookworm-slim
ARG BUILDER=debian:bookworm-slim

FROM ${BUILDER} AS build
# The builder image scripts/build-image makes already has the tools; a stock Debian image installs them.
RUN command -v cmake >/dev/null && command -v gcc >/dev/null || { \
      apt-get update && \
      apt-get install -y --no-install-recommends gcc libc6-dev make cmake pkg-config \
        libseccomp-dev libjansson-dev libcap-dev && \
      rm -rf /var/lib/apt/lists/*; }
# Only the sources: a `COPY . ` would drag the developers' build folders in.
COPY CMakeLists.txt /src/
COPY core /src/core
COPY runner /src/runner
COPY tracer /src/tracer
COPY generator /src/generator
COPY scanner /src/scanner
COPY apparmor /src/apparmor
COPY cli /src/cli
COPY serve /src/serve
COPY profiles /src/profiles
# The build's link check and install rules (man pages are skipped without scdoc).
COPY cmake /src/cmake
COPY man /src/man
COPY completions /src/completions
COPY docs /src/docs
COPY README.md /src/
# The eBPF recorder and AppArmor need clang/libbpf/libapparmor, serve libmicrohttpd; the image only
# records with ptrace and runs.
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release -DTB_TESTS=OFF -DTB_BPF=OFF -DTB_APPARMOR=OFF \
      -DTB_SERVE=OFF && \
    cmake --build /build -j"$(nproc)" && \
    cmake --install /build --prefix /usr/local

FROM ${BASE}
RUN if ! python3 -c 'import numpy, pandas, requests' 2>/dev/null || ! ldconfig -p | grep -q libjansson.so.4; then \
      apt-get update && \
      apt-get install -y --no-install-recommends python3 python3-numpy python3-pandas python3-requests \
        libseccomp2 libjansson4 libcap2 && \
      rm -rf /var/lib/apt/lists/*; \
    fi
# The binary and its shipped profiles (the runner loads profiles/default.json unless told otherwise).
COPY --from=build /usr/local/bin/tightbox /usr/local/bin/tightbox
COPY --from=build /usr/local/share/tightbox /usr/local/share/tightbox
COPY scripts/workloads /usr/share/tightbox/workloads
COPY scripts/record-corpus /usr/share/tightbox/record-corpus
COPY profiles/corpus.json /usr/share/tightbox/corpus.json
# RECORD=here (default): record every workload with the ptrace backend in this very image
# (scripts/record-corpus: one `tightbox record --script` per workload, then --merge).
# RECORD=shipped: use profiles/corpus.json, the project's recording of the same workloads on Debian 12
# with these very Python builds - for builders that cannot grant the recording step what it needs
# (Docker's classic builder: no --cap-add for a build step; measured with docker.io 20.10, the step
# fails with "umount: /proc/timer_list: must be superuser to unmount").
# Either way the profiles are generated from that recording: /etc/tightbox/seccomp.json for engines
# (--runtime runc adds what runc itself calls after loading the filter) and
# /etc/tightbox/tightbox-run/ for `tightbox run`.
# tightbox record builds its own sandbox (namespaces, its own user namespace even as root, a fresh
# /proc, loopback up), which an image build allows only with CAP_SYS_ADMIN and CAP_NET_ADMIN:
# `podman build --cap-add SYS_ADMIN,NET_ADMIN` (what scripts/build-sandbox-image passes; without them
# "cannot create the sandbox namespaces: EPERM"). And the kernel lets a user namespace mount a fresh
# /proc only when the /proc already visible hides nothing, while a build container masks files in
# /proc and binds /proc/sys read-only over it ("mount /proc" EPERM, then EROFS for the runner's
# namespace quotas in /proc/sys/user): so the step first unmounts those overlays in its own
# container. Both last only for this step, which runs the project's own corpus: the host's sysctls
# stay unwritable (no CAP_SYS_RESOURCE: EACCES), /proc/kcore stays closed (no CAP_SYS_RAWIO), and
# the image itself carries no capabilities.
ARG RECORD=here
RUN set -e; mkdir -p /etc/tightbox/tightbox-run; \
    case "$RECORD" in \
    here) \
      awk '$5 ~ "^/proc/" { print $5 }' /proc/self/mountinfo | sort -r | xargs -r -n1 umount; \
      /usr/bin/python3 /usr/share/tightbox/record-corpus --backend ptrace --tightbox /usr/local/bin/tightbox \
        --workloads /usr/share/tightbox/workloads -o /etc/tightbox/recording.json ;; \
    shipped) cp /usr/share/tightbox/corpus.json /etc/tightbox/recording.json ;; \
    *) echo "sandbox.Dockerfile: RECORD must be 'here' or 'shipped', not '$RECORD'" >&2; exit 2 ;; \
    esac; \
    tightbox generate --runtime runc -o /etc/tightbox /etc/tightbox/recording.json; \
    tightbox generate -o /etc/tightbox/tightbox-run /etc/tightbox/recording.json
RUN dpkg --purge --force-remove-essential bash && \
    install -d -m 0755 /sandbox
WORKDIR /sandbox
USER 65534:65534
CMD ["/usr/bin/python3"]
