# install() rules: the library, its public headers, lucid.pc for pkg-config and the CMake
# package (find_package(Lucid) -> Lucid::lucid). Directories come from GNUInstallDirs.
#
# What a consumer links besides liblucid: nothing for the shared library (it records LLVM,
# libm and libpthread itself); LLVM, -lm and -pthread for the static one, which lucid.pc
# lists in Libs.private (pkg-config --static) and the CMake package carries as link-only
# dependencies of Lucid::lucid (LucidConfig.cmake finds LLVM again for that).

set(LUCID_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Lucid)

install(TARGETS lucid EXPORT LucidTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# ops.def is included by ir.h; version.h is generated.
file(GLOB LUCID_PUBLIC_HEADERS CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/include/lucid/*.h ${PROJECT_SOURCE_DIR}/include/lucid/ops.def)
install(FILES ${LUCID_PUBLIC_HEADERS} ${PROJECT_BINARY_DIR}/include/lucid/version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lucid)

# The CMake package.
install(EXPORT LucidTargets NAMESPACE Lucid:: DESTINATION ${LUCID_CMAKE_INSTALL_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/LucidConfig.cmake.in
  ${PROJECT_BINARY_DIR}/LucidConfig.cmake INSTALL_DESTINATION ${LUCID_CMAKE_INSTALL_DIR})
# 0.x: a new minor version may change the API, so only the same major.minor is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/LucidConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/LucidConfig.cmake ${PROJECT_BINARY_DIR}/LucidConfigVersion.cmake
  DESTINATION ${LUCID_CMAKE_INSTALL_DIR})

# lucid.pc. LLVM has no .pc file on Debian, so Libs.private names its library by path: the
# shared libLLVM when the LLVM target exists, else what llvm-config lists for the components.
if(TARGET LLVM)
  get_target_property(_lucid_llvm_location LLVM LOCATION)
  set(LUCID_PC_LLVM_LIBS "${_lucid_llvm_location}")
else()
  find_program(_lucid_llvm_config llvm-config HINTS ${LLVM_TOOLS_BINARY_DIR} NO_DEFAULT_PATH)
  if(NOT _lucid_llvm_config)
    message(FATAL_ERROR "Lucid: no llvm-config in ${LLVM_TOOLS_BINARY_DIR} to list LLVM's "
      "libraries for lucid.pc")
  endif()
  execute_process(COMMAND ${_lucid_llvm_config} --link-static --ldflags --libs
      core orcjit native passes target analysis --system-libs
    OUTPUT_VARIABLE LUCID_PC_LLVM_LIBS OUTPUT_STRIP_TRAILING_WHITESPACE)
  string(REPLACE "\n" " " LUCID_PC_LLVM_LIBS "${LUCID_PC_LLVM_LIBS}")
endif()
foreach(_dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${_dir}}")
    set(LUCID_PC_${_dir} "${CMAKE_INSTALL_${_dir}}")
  else()
    set(LUCID_PC_${_dir} "\${prefix}/${CMAKE_INSTALL_${_dir}}")
  endif()
endforeach()
# The prefix is only known at install time (cmake --install --prefix P): this fills in all but
# @LUCID_PC_PREFIX@, and the install step writes the file for its prefix (under a name of its
# own, so two installs of one build tree to different prefixes cannot mix) and installs it.
set(LUCID_PC_PREFIX "@LUCID_PC_PREFIX@")
configure_file(${PROJECT_SOURCE_DIR}/cmake/lucid.pc.in ${PROJECT_BINARY_DIR}/lucid.pc.in @ONLY)
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(_lucid_pc_destination "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
else()
  set(_lucid_pc_destination "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig")
endif()
install(CODE "
  set(LUCID_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  string(MD5 _lucid_pc_key \"\${CMAKE_INSTALL_PREFIX}\")
  set(_lucid_pc \"${PROJECT_BINARY_DIR}/pkgconfig/\${_lucid_pc_key}/lucid.pc\")
  configure_file(\"${PROJECT_BINARY_DIR}/lucid.pc.in\" \"\${_lucid_pc}\" @ONLY)
  file(INSTALL DESTINATION \"${_lucid_pc_destination}\" TYPE FILE FILES \"\${_lucid_pc}\")
")

# The Python package, where Debian's python3 looks under a prefix; it finds the library
# installed beside it (python/lucid_c/_lib.py).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/python/lucid_c DESTINATION lib/python3/dist-packages
  PATTERN __pycache__ EXCLUDE)
