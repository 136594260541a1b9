from symnn.cli import run

run()
