/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  // The browser reaches the backend through the route handlers in app/api (see README.md); no rewrites:
  // Next.js fixes rewrite destinations at build time, before the ConfigMap's NEXT_PUBLIC_API_URL is known.
}

export default nextConfig
