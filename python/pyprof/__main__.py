"""`python -m pyprof` and the `pyprof` console script: both run the C CLI."""
import sys


def main():
    from pyprof._pyprof import main as c_main
    return c_main(sys.argv)


if __name__ == "__main__":
    sys.exit(main())
