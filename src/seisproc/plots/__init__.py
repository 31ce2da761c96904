"""Pictures the command line writes as files (PNG): parameter-test panels, and the
gather where two outputs differ most.

Drawn with matplotlib's Agg renderer, which needs no display, so a processing server
without X writes the same picture a desktop does. matplotlib is imported only when a
picture is drawn.
"""
