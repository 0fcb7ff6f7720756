namespace Meridian.Testing;
