using System.Buffers;
using System.ComponentModel.DataAnnotations;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Processing;

namespace Aap.Api.Features.Files;

/// <summary>The thumbnails' settings (<c>Storage:Thumbnails:*</c>, docs/configuration.md).</summary>
internal sealed class ThumbnailOptions
{
    public const string SectionName = "Storage:Thumbnails";

    /// <summary>The long side of a thumbnail, in pixels; smaller images keep their size.</summary>
    [Range(32, 2048)]
    public int Size { get; set; } = 320;

    /// <summary>An image with more pixels than this (width × height, read from its header) is refused before it is decoded.</summary>
    [Range(1, 1_000_000_000)]
    public long MaxPixels { get; set; } = 40_000_000;

    /// <summary>The memory one image may take while it is decoded and scaled (all frames, all buffers); beyond it, it fails.</summary>
    [Range(16, 4096)]
    public int MaxDecodeMegabytes { get; set; } = 400;

    /// <summary>How many files the job reads from the database at a time.</summary>
    [Range(1, 1000)]
    public int BatchSize { get; set; } = 50;
}

/// <summary>An image that cannot become a thumbnail: unreadable, or too large to decode. Permanent for that file.</summary>
internal sealed class ThumbnailRefusedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Makes a thumbnail with ImageSharp 2.1 (Apache-2.0): the first frame, turned upright, scaled down to
/// <see cref="ThumbnailOptions.Size"/> on its long side, flattened on white, without metadata (no EXIF or GPS), as
/// a JPEG (quality 80): every browser shows it, it is a fraction of a PNG's size for a screenshot or a photo, and
/// thumbnails need no transparency. Against decompression bombs: the header's dimensions are checked before any
/// pixel is decoded, and every buffer of the decode is counted against <see cref="ThumbnailOptions.MaxDecodeMegabytes"/>.
/// </summary>
internal sealed class ThumbnailMaker(IOptions<ThumbnailOptions> options)
{
    public const string ContentType = "image/jpeg";

    // Plain managed arrays: thumbnails are background work, and a pool would keep memory after a burst.
    private static readonly MemoryAllocator Shared = new SimpleGcMemoryAllocator();

    /// <summary>
    /// Reads the image from <paramref name="source"/> (seekable: its header is read first, then the whole image) and
    /// writes its thumbnail to <paramref name="target"/>; any problem with the image is a <see cref="ThumbnailRefusedException"/>.
    /// </summary>
    /// <remarks>
    /// Synchronous on purpose: ImageSharp's asynchronous reads first copy the whole stream into memory (in chunks of
    /// 128 KiB, large objects to the garbage collector, once to read the header and again to decode), and under a
    /// stream of uploads those copies were what set off most of the process's full collections. Reading a seekable
    /// stream directly costs a background job a blocking read of a local or temporary file.
    /// </remarks>
    public void Make(Stream source, Stream target, CancellationToken cancellationToken)
    {
        if (!source.CanSeek || !target.CanSeek)
        {
            throw new ArgumentException("The image is read from, and its thumbnail written to, streams that can seek (a file, memory).");
        }

        var settings = options.Value;
        var configuration = Configuration.Default.Clone();
        configuration.MemoryAllocator = new BudgetAllocator(Shared, settings.MaxDecodeMegabytes * 1024L * 1024L);
        try
        {
            var start = source.Position;
            var info = Image.Identify(configuration, source)
                ?? throw new ThumbnailRefusedException("The content is not an image format that can be read.");
            if ((long)info.Width * info.Height > settings.MaxPixels)
            {
                throw new ThumbnailRefusedException($"The image is {info.Width}×{info.Height} pixels, more than Storage:Thumbnails:MaxPixels ({settings.MaxPixels}).");
            }

            source.Position = start;
            cancellationToken.ThrowIfCancellationRequested();
            using var image = Image.Load(configuration, source);
            cancellationToken.ThrowIfCancellationRequested();
            while (image.Frames.Count > 1)
            {
                image.Frames.RemoveFrame(image.Frames.Count - 1);
            }

            image.Mutate(x => x.AutoOrient());
            var scale = Math.Min(1.0, (double)settings.Size / Math.Max(image.Width, image.Height));
            var size = new Size(Math.Max(1, (int)Math.Round(image.Width * scale)), Math.Max(1, (int)Math.Round(image.Height * scale)));
            image.Mutate(x =>
            {
                if (size.Width != image.Width || size.Height != image.Height)
                {
                    x.Resize(size);
                }

                x.BackgroundColor(Color.White);
            });
            image.Metadata.ExifProfile = null;
            image.Metadata.IptcProfile = null;
            image.Metadata.XmpProfile = null;
            image.Metadata.IccProfile = null;
            image.SaveAsJpeg(target, new JpegEncoder { Quality = 80 });
        }
        catch (Exception error) when (error is not (OperationCanceledException or ThumbnailRefusedException or IOException or UnauthorizedAccessException))
        {
            // ImageSharp reports bad content with its own types (UnknownImageFormatException, InvalidImageContentException)
            // and, for some damage, with plain argument or range errors; the budget's refusal may come wrapped in them.
            for (var inner = error; inner is not null; inner = inner.InnerException)
            {
                if (inner is InvalidMemoryOperationException)
                {
                    throw new ThumbnailRefusedException(
                        $"Decoding the image needs more memory than Storage:Thumbnails:MaxDecodeMegabytes ({settings.MaxDecodeMegabytes} MB) allows.", error);
                }
            }

            throw new ThumbnailRefusedException($"The image could not be read ({error.GetType().Name}: {error.Message})", error);
        }
    }

    /// <summary>
    /// Hands out buffers from the shared pool while their total stays within a budget: one instance per image, so
    /// a small file that claims to unpack into gigabytes (a decompression bomb, many large frames) fails cleanly.
    /// </summary>
    private sealed class BudgetAllocator(MemoryAllocator inner, long budget) : MemoryAllocator
    {
        private long _allocated;

        // Larger images are held as groups of buffers of this size, each allocated (and counted) here.
        protected override int GetBufferCapacityInBytes() => 16 * 1024 * 1024;

        public override IMemoryOwner<T> Allocate<T>(int length, AllocationOptions options = AllocationOptions.None)
        {
            var bytes = (long)length * Unsafe.SizeOf<T>();
            if (Interlocked.Add(ref _allocated, bytes) > budget)
            {
                throw new InvalidMemoryOperationException(
                    $"Decoding needs more than Storage:Thumbnails:MaxDecodeMegabytes ({budget / (1024 * 1024)} MB).");
            }

            return inner.Allocate<T>(length, options);
        }

        public override void ReleaseRetainedResources() => inner.ReleaseRetainedResources();
    }
}
