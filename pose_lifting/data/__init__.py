"""Real 3D human motion for training and evaluating the lifter.

Readers for each mocap format (`bvh`, `asf_amc`, `deepmimic`), the table of registry sources and their
skeleton mappings (`sources`), the conversion to the Human3.6M 17-joint layout (`convert`), the command that
fetches and converts everything (`prepare`), the prepared-data API with the held-out split (`mocap`) and the
Human3.6M VideoPose3D file reader (`h36m`).
"""
