# Compiler launcher and warnings shared by every physis target.
find_program(PHYSIS_CCACHE ccache)
if(PHYSIS_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  # Precompiled headers are only cached with these sloppiness settings. With the source tree as base directory,
  # build trees of the same sources (build/, build-cuda/, a second clone) share cache entries.
  set(CMAKE_CXX_COMPILER_LAUNCHER
      env CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
      CCACHE_BASEDIR=${PROJECT_SOURCE_DIR} ${PHYSIS_CCACHE})
endif()

add_library(physis_warnings INTERFACE)
target_compile_options(physis_warnings INTERFACE -Wall -Wextra -Wno-unused-parameter)
