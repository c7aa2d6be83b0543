"""A listing's media (SPEC §6): product pictures, videos, title and description, apart from the
licence reader. `read_listing` reads the files once; `screen_listing` is what the checks call.

    text.py     contact details and banned words in any text, normalised against evasion
    images.py   codes and OCR'd text on a picture or a video frame; reading a product picture file
    videos.py   reading a product video: decode with a deadline (decode.py, a child process), sample, OCR
    listing.py  the listing as a whole: read_listing, screen_listing and its checks
"""
