namespace Aap.Api.Features.Isins;

/// <summary>
/// ISO 6166 International Securities Identification Numbers: two letters (the country code of the issuing agency,
/// or XS/EU for international ones), nine letters or digits (the national code), and one check digit: the Luhn
/// check over the number that replaces each letter by its value (A = 10 ... Z = 35). Pure functions, no I/O.
/// </summary>
internal static class IsinCode
{
    public const int Length = 12;

    /// <summary>True when <paramref name="value"/> is a well-formed ISIN with the right check digit (upper case only).</summary>
    public static bool IsValid(ReadOnlySpan<char> value) => Check(value) is null;

    /// <summary>Why <paramref name="value"/> is not an ISIN (one sentence for a person), or null when it is one.</summary>
    public static string? Check(ReadOnlySpan<char> value)
    {
        if (value.Length != Length)
        {
            return $"An ISIN has {Length} characters; this one has {value.Length}.";
        }

        if (!IsUpperLetter(value[0]) || !IsUpperLetter(value[1]))
        {
            return "An ISIN starts with two capital letters (the country code).";
        }

        for (var i = 2; i < Length - 1; i++)
        {
            if (!IsUpperLetter(value[i]) && !char.IsAsciiDigit(value[i]))
            {
                return $"Characters 3 to 11 of an ISIN are capital letters or digits; character {i + 1} is '{value[i]}'.";
            }
        }

        if (!char.IsAsciiDigit(value[Length - 1]))
        {
            return $"The last character of an ISIN is its check digit; '{value[Length - 1]}' is not a digit.";
        }

        var expected = CheckDigit(value[..(Length - 1)]);
        return value[Length - 1] - '0' == expected
            ? null
            : $"The check digit is wrong: {value[..(Length - 1)]} needs check digit {expected}, not {value[Length - 1]}.";
    }

    /// <summary>
    /// The check digit of the first eleven characters: letters become two digits (A = 10 ... Z = 35), and the Luhn
    /// algorithm runs over the resulting digits, doubling every second one from the right, starting with the rightmost.
    /// </summary>
    public static int CheckDigit(ReadOnlySpan<char> body)
    {
        // At most 22 digits: 11 characters of two digits each.
        Span<int> digits = stackalloc int[2 * (Length - 1)];
        var count = 0;
        foreach (var c in body)
        {
            if (char.IsAsciiDigit(c))
            {
                digits[count++] = c - '0';
            }
            else if (IsUpperLetter(c))
            {
                var number = c - 'A' + 10;
                digits[count++] = number / 10;
                digits[count++] = number % 10;
            }
            else
            {
                throw new ArgumentException($"'{c}' is not a capital letter or a digit.", nameof(body));
            }
        }

        var sum = 0;
        var doubled = true;
        for (var i = count - 1; i >= 0; i--)
        {
            var digit = doubled ? digits[i] * 2 : digits[i];
            sum += digit > 9 ? digit - 9 : digit;
            doubled = !doubled;
        }

        return (10 - (sum % 10)) % 10;
    }

    /// <summary>
    /// Where the ISINs that start with <paramref name="prefix"/> (capital letters and digits) end: the smallest text
    /// after all of them (the prefix with its last character that can grow grown by one, a digit before a letter), or
    /// null when none is (ZZ...). The prefix is then the range [prefix, end), which a database answers from an index
    /// on the ISIN in binary order and in the usual collations alike, where <c>LIKE 'prefix%'</c> uses the index only
    /// in the C collation.
    /// </summary>
    public static string? PrefixEnd(string prefix)
    {
        for (var i = prefix.Length - 1; i >= 0; i--)
        {
            var c = prefix[i];
            if (c != 'Z')
            {
                return string.Concat(prefix.AsSpan(0, i), c == '9' ? "A" : char.ToString((char)(c + 1)));
            }
        }

        return null;
    }

    private static bool IsUpperLetter(char c) => c is >= 'A' and <= 'Z';
}
