# Reading uploaded files (bot/imaging/decode.py). $subject is image, mask, result, before-image or after-image.

decode-subject = { $subject ->
        [mask] mask
        [result] result
        [before-image] before image
        [after-image] after image
       *[image] image
    }
decode-the-file = { $subject ->
        [mask] The mask file
        [result] The result file
        [before-image] The before image file
        [after-image] The after image file
       *[image] That file
    }
decode-hint = Upload a PNG, JPEG or WebP image (GIF, BMP and TIFF are converted automatically).
decode-heic-hint = On an iPhone, share the photo as JPEG (or set Camera › Formats › Most Compatible).
decode-not-recognised = { $file } is not an image I can read (unrecognised format). { $hint }
decode-looks-damaged = { $file } looks like { $kind }, so I can't read it. Save or export it again and re-upload.
decode-not-an-image = { $file } is { $kind }, not an image. { $hint }
decode-not-an-image-heic = { $file } is { $kind }, not an image. { $hint } { $heic }
decode-too-many-pixels = The { $subject } is too large: { $dims }. The limit is { $limit } megapixels (about 6300×6300). Resize it and try again.
decode-dims = { $megapixels } megapixels
decode-dims-size = { $size } ({ $megapixels } megapixels)
decode-empty = The { $subject } file is empty. Upload it again.
decode-too-big = The { $subject } file is { $size } MB; the limit is { $limit } MB.
decode-damaged = { $file } is damaged or incomplete (perhaps cut off during upload), so I can't read it. Save or export it again and re-upload.
decode-damaged-format = { $file } ({ $format }) is damaged or incomplete (perhaps cut off during upload), so I can't read it. Save or export it again and re-upload.
decode-too-small = The image is only { $size } pixels; it must be at least { $min } pixels on each side. Upload a larger image.
decode-colour-mode = I can't convert this image's colour mode ({ $mode }). Save it as an RGB PNG or JPEG and re-upload.

# What a file that is not an image probably is.
file-kind = { $kind ->
        [pdf] a PDF document
        [zip] a ZIP archive (or an Office document)
        [gzip] a gzip archive
        [rar] a RAR archive
        [sevenzip] a 7-Zip archive
        [psd] a Photoshop document (PSD)
        [webm] a WebM/MKV video
        [ogg] an Ogg audio/video file
        [flac] a FLAC audio file
        [mp3] an MP3 audio file
        [exe] a Windows program
        [elf] a Linux program
        [ico] an icon (ICO) file
        [jxl] a JPEG XL image
        [damaged-png] a damaged PNG image
        [damaged-jpeg] a damaged JPEG image
        [damaged-gif] a damaged GIF image
        [damaged-webp] a damaged WebP image
        [tiff-unreadable] a TIFF image Pillow cannot read
        [heif] a HEIC/HEIF photo
        [avif-unreadable] an AVIF image this server cannot decode
        [quicktime] a QuickTime video
        [mp4] an MP4 video
        [wav] a WAV audio file
        [avi] an AVI video
        [riff] a RIFF media file
        [svg] an SVG drawing (vector graphics, not pixels)
        [html] a web page (HTML)
       *[text] a text file
    }
