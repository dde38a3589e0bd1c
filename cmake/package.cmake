# The Debian package (CPack DEB): `scripts/build-deb` configures a build with
# CMAKE_INSTALL_PREFIX=/usr and runs cpack. The binary looks for its profiles where it was
# configured to be installed, so the package installs exactly there.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tightbox)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "run untrusted code under policies measured from real programs")
set(CPACK_PACKAGE_DESCRIPTION "tightbox runs AI-generated and other untrusted code in a hardened
sandbox (namespaces, read-only root, cgroup limits, no capabilities, Landlock, AppArmor,
seccomp), records what programs really do (ptrace or eBPF), and generates minimal seccomp,
AppArmor and Landlock policies from the recordings, with docker, podman, OCI and Kubernetes
wiring, a profile linter and a denial explainer.")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "tightbox maintainers <tightbox@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# libseccomp, jansson, libcap, libapparmor, libbpf and libelf are linked statically
# (TB_STATIC_DEPS); dpkg-shlibdeps finds what is still dynamic (libc).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "apparmor, podman | docker.io, runc")
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_IGNORE_FILES "/build.*/;/\\\\.git/")

# Debian policy: /usr/share/doc/PACKAGE/copyright.
install(FILES ${CMAKE_SOURCE_DIR}/cmake/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
include(CPack)
