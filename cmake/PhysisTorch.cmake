# Finds LibTorch and defines physis::torch.
#
# One code path for every LibTorch: pass -DTorch_DIR=... (an official LibTorch archive, Debian's libtorch-dev), or
# let this file ask the project venv's torch wheel for its CMake prefix (what torch.utils.cmake_prefix_path returns;
# computed without importing torch, which a wheel installed without its CUDA runtime packages cannot do).
#
# CPU machines link torch_cpu + c10 only, so the wheel's CUDA runtime packages are not needed to build or run.
# With PHYSIS_CUDA=ON the full `torch` target is linked (torch_cuda kept with --no-as-needed so that its CUDA
# kernels register even though nothing references them directly).
if(NOT Torch_DIR)
  set(PHYSIS_PYTHON "${CMAKE_SOURCE_DIR}/.venv/bin/python" CACHE FILEPATH "Python whose torch wheel provides LibTorch")
  if(NOT EXISTS "${PHYSIS_PYTHON}")
    find_program(PHYSIS_PYTHON_FALLBACK NAMES python3 python)
    set(PHYSIS_PYTHON "${PHYSIS_PYTHON_FALLBACK}")
  endif()
  execute_process(
    COMMAND "${PHYSIS_PYTHON}" -c
      "import importlib.util, os; s = importlib.util.find_spec('torch'); print(os.path.join(s.submodule_search_locations[0], 'share', 'cmake'))"
    OUTPUT_VARIABLE _physis_torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _physis_torch_rc ERROR_QUIET)
  if(_physis_torch_rc EQUAL 0 AND EXISTS "${_physis_torch_prefix}")
    list(APPEND CMAKE_PREFIX_PATH "${_physis_torch_prefix}")
  endif()
endif()

if(PHYSIS_CUDA STREQUAL "AUTO")
  if(EXISTS "/proc/driver/nvidia/version")
    set(_physis_cuda ON)
  else()
    set(_physis_cuda OFF)
  endif()
else()
  set(_physis_cuda ${PHYSIS_CUDA})
endif()

# The wheel's Caffe2 config always probes the CUDA toolkit (torch was built with CUDA), so configuring against it
# needs nvcc's toolkit even on a CPU machine; nothing of it is linked unless PHYSIS_CUDA is on.
# Without an architecture list the config compiles and runs a GPU-detection program, which fails on machines
# without a GPU; physis compiles no CUDA sources itself, so Hopper (the GPU machines' H100/H200) is named here.
if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST} AND NOT TORCH_CUDA_ARCH_LIST)
  set(TORCH_CUDA_ARCH_LIST "9.0")
endif()
find_package(Torch 2.0 REQUIRED CONFIG)
message(STATUS "physis: LibTorch ${Torch_VERSION} from ${Torch_DIR}; CUDA ${_physis_cuda}")

add_library(physis_torch INTERFACE)
add_library(physis::torch ALIAS physis_torch)
target_include_directories(physis_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
if(_physis_cuda)
  target_link_libraries(physis_torch INTERFACE ${TORCH_LIBRARIES})
  if(TARGET torch_cuda)
    target_link_libraries(physis_torch INTERFACE "-Wl,--no-as-needed,$<TARGET_FILE:torch_cuda>,--as-needed")
  endif()
  target_compile_definitions(physis_torch INTERFACE PHYSIS_CUDA=1)
else()
  target_link_libraries(physis_torch INTERFACE torch_cpu c10)
endif()
separate_arguments(_physis_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
target_compile_options(physis_torch INTERFACE ${_physis_torch_flags})
set(PHYSIS_CUDA_ENABLED ${_physis_cuda})
