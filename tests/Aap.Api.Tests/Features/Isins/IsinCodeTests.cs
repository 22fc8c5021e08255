using Aap.Api.Features.Isins;

namespace Aap.Api.Tests.Features.Isins;

/// <summary>ISO 6166: the format and the Luhn check digit over the letters-as-numbers expansion, as a pure function.</summary>
public sealed class IsinCodeTests
{
    [Theory]
    [InlineData("US0378331005")] // Apple
    [InlineData("DE000BAY0017")] // Bayer
    [InlineData("GB0002634946")] // BAE Systems
    [InlineData("US5949181045")] // Microsoft
    [InlineData("AU0000XVGZA3")] // letters inside the national code
    [InlineData("FR0000120271")] // TotalEnergies
    [InlineData("XS2021471433")] // an international (XS) bond
    [InlineData("JP3633400001")] // Toyota
    public void Real_isins_are_valid(string isin)
    {
        IsinCode.Check(isin).ShouldBeNull();
        IsinCode.IsValid(isin).ShouldBeTrue();
        IsinCode.CheckDigit(isin.AsSpan(0, 11)).ShouldBe(isin[11] - '0');
    }

    [Theory]
    [InlineData("US", "UT")]
    [InlineData("U9", "UA")]
    [InlineData("US03", "US04")]
    [InlineData("US0Z", "US1")]
    [InlineData("UZZ", "V")]
    [InlineData("ZZ", null)]
    public void A_prefix_ends_before_the_first_text_that_does_not_start_with_it(string prefix, string? end)
    {
        IsinCode.PrefixEnd(prefix).ShouldBe(end);
        if (end is not null)
        {
            // Every ISIN that starts with the prefix sorts inside [prefix, end); the next one after the range does not start with it.
            string.CompareOrdinal(prefix + "ZZZZZZZZZZ", end).ShouldBeLessThan(0);
            end.StartsWith(prefix, StringComparison.Ordinal).ShouldBeFalse();
        }
    }

    [Theory]
    [InlineData("US0378331006", "needs check digit 5, not 6")]
    [InlineData("DE000BAY0018", "needs check digit 7, not 8")]
    [InlineData("GB0002634947", "needs check digit 6, not 7")]
    [InlineData("US037833100", "12 characters; this one has 11")]
    [InlineData("US03783310055", "12 characters; this one has 13")]
    [InlineData("", "12 characters; this one has 0")]
    [InlineData("us0378331005", "starts with two capital letters")]
    [InlineData("1S0378331005", "starts with two capital letters")]
    [InlineData("US03783-1005", "character 8 is '-'")]
    [InlineData("US037833100X", "'X' is not a digit")]
    public void Malformed_isins_say_why(string isin, string why)
    {
        IsinCode.Check(isin).ShouldNotBeNull().ShouldContain(why);
        IsinCode.IsValid(isin).ShouldBeFalse();
    }

    [Fact]
    public void Swapping_two_digits_is_caught()
    {
        IsinCode.IsValid("US0378331005").ShouldBeTrue();
        IsinCode.IsValid("US0387331005").ShouldBeFalse();
    }

    [Fact]
    public void Csv_fields_honour_quotes()
    {
        IsinFile.Split("LEI,ISIN").ShouldBe(["LEI", "ISIN"]);
        IsinFile.Split("\"5493001KJTIIGC8Y1R12\",\"US0378331005\"").ShouldBe(["5493001KJTIIGC8Y1R12", "US0378331005"]);
        IsinFile.Split("\"a, \"\"b\"\"\",c").ShouldBe(["a, \"b\"", "c"]);
    }
}
