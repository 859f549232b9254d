from pincex.cli import main

main()
