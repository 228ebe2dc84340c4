# 读取上传的文件（bot/imaging/decode.py）。

decode-subject = { $subject ->
        [mask] 蒙版
        [result] 结果
        [before-image] 修改前的图片
        [after-image] 修改后的图片
       *[image] 图片
    }
decode-the-file = { $subject ->
        [mask] 蒙版文件
        [result] 结果文件
        [before-image] 修改前的图片文件
        [after-image] 修改后的图片文件
       *[image] 这个文件
    }
decode-hint = 请上传 PNG、JPEG 或 WebP 图片（GIF、BMP 和 TIFF 会自动转换）。
decode-heic-hint = 在 iPhone 上，请以 JPEG 格式分享照片（或设置 相机 › 格式 › 兼容性最佳）。
decode-not-recognised = { $file }不是我能读取的图片（无法识别的格式）。{ $hint }
decode-looks-damaged = { $file }看起来是{ $kind }，所以我无法读取。请重新保存或导出后再上传。
decode-not-an-image = { $file }是{ $kind }，不是图片。{ $hint }
decode-not-an-image-heic = { $file }是{ $kind }，不是图片。{ $hint }{ $heic }
decode-too-many-pixels = { $subject }太大了：{ $dims }。上限是 { $limit } 百万像素（约 6300×6300）。请缩小后再试。
decode-dims = { $megapixels } 百万像素
decode-dims-size = { $size }（{ $megapixels } 百万像素）
decode-empty = { $subject }文件是空的。请重新上传。
decode-too-big = { $subject }文件有 { $size } MB；上限是 { $limit } MB。
decode-damaged = { $file }已损坏或不完整（可能在上传时被截断），所以我无法读取。请重新保存或导出后再上传。
decode-damaged-format = { $file }（{ $format }）已损坏或不完整（可能在上传时被截断），所以我无法读取。请重新保存或导出后再上传。
decode-too-small = 这张图片只有 { $size } 像素；每条边至少需要 { $min } 像素。请上传更大的图片。
decode-colour-mode = 我无法转换这张图片的颜色模式（{ $mode }）。请另存为 RGB 的 PNG 或 JPEG 后再上传。

# 不是图片的文件可能是什么。
file-kind = { $kind ->
        [pdf] 一个 PDF 文档
        [zip] 一个 ZIP 压缩包（或 Office 文档）
        [gzip] 一个 gzip 压缩包
        [rar] 一个 RAR 压缩包
        [sevenzip] 一个 7-Zip 压缩包
        [psd] 一个 Photoshop 文档（PSD）
        [webm] 一个 WebM/MKV 视频
        [ogg] 一个 Ogg 音频/视频文件
        [flac] 一个 FLAC 音频文件
        [mp3] 一个 MP3 音频文件
        [exe] 一个 Windows 程序
        [elf] 一个 Linux 程序
        [ico] 一个图标（ICO）文件
        [jxl] 一张 JPEG XL 图片
        [damaged-png] 一张损坏的 PNG 图片
        [damaged-jpeg] 一张损坏的 JPEG 图片
        [damaged-gif] 一张损坏的 GIF 图片
        [damaged-webp] 一张损坏的 WebP 图片
        [tiff-unreadable] 一张 Pillow 无法读取的 TIFF 图片
        [heif] 一张 HEIC/HEIF 照片
        [avif-unreadable] 一张本服务器无法解码的 AVIF 图片
        [quicktime] 一个 QuickTime 视频
        [mp4] 一个 MP4 视频
        [wav] 一个 WAV 音频文件
        [avi] 一个 AVI 视频
        [riff] 一个 RIFF 媒体文件
        [svg] 一个 SVG 矢量图（矢量图形，不是像素）
        [html] 一个网页（HTML）
       *[text] 一个文本文件
    }
