# Compiler launcher and warnings shared by every physis target.
find_program(PHYSIS_CCACHE ccache)
if(PHYSIS_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  # Precompiled headers are only cached with these sloppiness settings.
  set(CMAKE_CXX_COMPILER_LAUNCHER
      env CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime ${PHYSIS_CCACHE})
endif()

add_library(physis_warnings INTERFACE)
target_compile_options(physis_warnings INTERFACE -Wall -Wextra -Wno-unused-parameter)
