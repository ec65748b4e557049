// Catch2 entry point shared by every physis test executable.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
