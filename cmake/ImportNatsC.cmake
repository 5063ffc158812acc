# Imports nats.c (libnats-dev) as the target cnats::nats.
#
# Debian 12's libnats-dev 3.4.1 installs a CMake package config that refers to
# files the package does not ship (libnats_static.a, and libprotobuf-c.so from
# libprotobuf-c-dev), so find_package(cnats) stops the configure on a fresh
# machine. Use that config only when those files are there; otherwise import
# libnats.so directly (it carries its own dependencies).
if(NOT TARGET cnats::nats)
  find_library(SLUICE_CNATS_LIBRARY NAMES nats REQUIRED)
  find_path(SLUICE_CNATS_INCLUDE_DIR nats/nats.h REQUIRED)
  get_filename_component(_cnats_libdir "${SLUICE_CNATS_LIBRARY}" DIRECTORY)
  if(EXISTS "${_cnats_libdir}/libnats_static.a" AND EXISTS "${_cnats_libdir}/libprotobuf-c.so")
    find_package(cnats REQUIRED)
  else()
    add_library(cnats::nats SHARED IMPORTED GLOBAL)
    set_target_properties(cnats::nats PROPERTIES
      IMPORTED_LOCATION "${SLUICE_CNATS_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${SLUICE_CNATS_INCLUDE_DIR}")
  endif()
endif()
